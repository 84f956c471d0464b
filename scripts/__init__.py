"""The recording and checking scripts; a package so that tests import scripts.strong_server without editing sys.path."""
