"""Council spending line by line (Local Government Transparency Code payment files)."""
