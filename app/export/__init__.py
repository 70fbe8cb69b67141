"""Export renderers: GIF, MP4, standalone HTML, PNG, CSV and JSON of a scene."""
