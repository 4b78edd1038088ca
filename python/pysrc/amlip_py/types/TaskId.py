"""Task id: an int, as in AML-IP."""

TaskId = int
