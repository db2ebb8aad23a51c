"""The schema version stamped on every manifest, sample record and run directory.

Bump the minor part for additive changes (new optional columns/members) and the major part when a
reader written for the previous version would misread the data.
"""

SCHEMA_VERSION = "1.7"
