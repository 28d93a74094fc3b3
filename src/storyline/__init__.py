"""storyline: raw multilingual news in, clean articles and cross-lingual stories out."""

from storyline.errors import StorylineError
from storyline.model import Article, Entity, Paragraph, Quote, RawDocument, Rejection

__all__ = [
    "Article", "Entity", "Paragraph", "Quote", "RawDocument", "Rejection", "StorylineError",
]
__version__ = "0.1.0"
