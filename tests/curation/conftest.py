"""The runtime tests (ingest, media, run, runtime, config, manifests, models).

pytest puts this folder on ``sys.path`` when it loads this file, which is what lets the tests below
it import the helper modules beside it (``hostile_media``, ``pipeline_runs``).
"""
