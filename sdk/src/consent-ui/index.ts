// The consent banner bundle: being written (issue 3).
