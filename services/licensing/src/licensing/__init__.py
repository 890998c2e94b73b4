"""The licensing process. Its capabilities arrive with their issues."""
