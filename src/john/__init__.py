"""JOHN: the Joint Occupational Hosting Network learner record hub."""

__version__ = "0.1.0"
