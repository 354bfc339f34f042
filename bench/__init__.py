"""Benchmarks of the bundled SMTP server and of the course's own speed.

Each section measures the course side by side with a bare baseline in the same
run, so that a regression shows as a ratio rather than as an absolute number
that depends on the machine. Run ``python -m bench`` from the repository root
(``python -m bench --help`` lists the options). Every server it starts listens
on 127.0.0.1 and every load loop has a fixed message count.

The bench needs a POSIX system (it waits on pipes with ``select`` and talks to
kernels over Unix sockets). The share of other processes' load, and kernel
memory without psutil, are read from Linux's /proc.
"""
