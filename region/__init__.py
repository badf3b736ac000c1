"""The regional level (Articles 21, 22): parks submit signed Article 21 packages to a region
instance, which ranks its class 1 and 2 parks and hands each league/city and park its results."""
