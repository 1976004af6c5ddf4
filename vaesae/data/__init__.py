"""Data loaders (registered on import), column encoding and the demo dataset."""
from vaesae.data.embedding import EmbeddingDataLoader
from vaesae.data.streaming import ParquetStreamLoader
from vaesae.data.tabular import TabularDataLoader

__all__ = ["EmbeddingDataLoader", "ParquetStreamLoader", "TabularDataLoader"]
