"""The fault-injecting S3 proxy lives with the benchmarks that use it too (``bench store-reads``)."""

from apps.bench.faulty_proxy import FaultPlan, FaultyProxy, faulty_proxy

__all__ = ["FaultPlan", "FaultyProxy", "faulty_proxy"]
