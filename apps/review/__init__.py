"""The review application: a local web app to play sampled items and record verdicts, and the
report that turns verdicts into precision per state and per rejection reason."""
