{
  "targets": [
    {
      "target_name": "scan_io",
      "sources": ["scan-io.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Werror=implicit-function-declaration"]
    }
  ]
}
