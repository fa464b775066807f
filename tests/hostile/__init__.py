"""The hostile corpus generator and helpers for the hostile-input, crash and fuzz tests."""
