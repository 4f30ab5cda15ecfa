"""Offline steps toward a deploy: translate the SAM template as the SAM CLI would."""
