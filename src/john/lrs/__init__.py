"""A Learning Record Store speaking xAPI 2.0 (IEEE 9274.1.1) and 1.0.3."""
