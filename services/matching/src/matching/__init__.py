"""The matching process. Its capabilities arrive with their issues."""
