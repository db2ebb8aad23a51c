"""The calibration corpus: real footage from public repositories, listed by checksum, never stored here."""
