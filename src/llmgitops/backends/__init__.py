"""Backends run the pipeline: ``argo`` renders it for Argo Workflows + Argo CD, ``local`` runs it here."""
