"""The scheduling process. Its capabilities arrive with their issues."""
