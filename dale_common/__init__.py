"""Code shared by the cloud, edge and bridge processes."""
