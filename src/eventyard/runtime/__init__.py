"""The function runtime: the App, its functions, their workers and their supervisor."""
