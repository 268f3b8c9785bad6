"""Petitions (信訪): intake, the regulated case workflow, satisfaction, Open311."""
