"""Export: materialise a query's selection of a run as a new, self-contained dataset."""
