"""The knowledge base: sources, chunking, embeddings and search."""
