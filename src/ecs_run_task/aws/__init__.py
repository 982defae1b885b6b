"""The AWS boundary: every boto3 call, errors translated once into our own, answers read defensively, console links."""
