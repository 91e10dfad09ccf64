"""Owner-facing management of channel integrations: the website widget's settings and keys."""
