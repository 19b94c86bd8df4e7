"""The composition root: settings, the command line, and the embedded services for the demo."""
