"""podcastgen: YAML episode scripts in, mastered, tagged podcast episodes out."""

__version__ = "0.1.0"
