"""Gradscape web application: FastAPI server, export renderers and the CLI."""
