from tests.apps.calibration.fake_mirror import fake_mirror  # noqa: F401 (the fixture, for every test here)
