"""The gateway process. Its capabilities arrive with their issues."""
