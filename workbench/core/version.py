"""The workbench's version, recorded in every manifest and provenance file."""

__version__ = "0.6.0"
