"""The command line: python -m bot run|demo|export|privacy|audit."""
