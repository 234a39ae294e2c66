#!/usr/bin/env python
from cartable.cli import main

if __name__ == "__main__":
    main()
