"""Applications above the stages: the lpm-curate CLI, benchmarks, the synthetic generator, audit, review and reports."""
