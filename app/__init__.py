"""Processes and commands: what `run.py` starts. The top layer: it may import web, channels and engine; none imports it."""
