"""Vector store adapters behind one interface (``base.VectorStore``): FAISS on disk, Qdrant."""
