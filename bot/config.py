"""config.yaml -> typed, frozen objects; ConfigError names the file and the key path."""
