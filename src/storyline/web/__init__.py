"""Server-rendered HTML pages for people reading the news stream."""
