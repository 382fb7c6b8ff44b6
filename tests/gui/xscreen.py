# xscreen.py: the pixels of the X display, and the pointer, for the desktop tests
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Reads what the X server shows through libX11 (XGetImage on the root
# window), so that a test can tell what is drawn without a screenshot
# tool; moves the pointer and presses its buttons with xdotool (XTest), as
# a hand on the mouse would, so that the X server sends every window on
# the way the events it sends for a real one.

import ctypes
import ctypes.util
import os
import shutil
import subprocess
import time

XDOTOOL = shutil.which("xdotool")

_ZPIXMAP = 2
_ALL_PLANES = ctypes.c_ulong(~0 & 0xFFFFFFFFFFFFFFFF)


class _XImage(ctypes.Structure):
    _fields_ = [
        ("width", ctypes.c_int), ("height", ctypes.c_int), ("xoffset", ctypes.c_int),
        ("format", ctypes.c_int), ("data", ctypes.POINTER(ctypes.c_ubyte)),
        ("byte_order", ctypes.c_int), ("bitmap_unit", ctypes.c_int),
        ("bitmap_bit_order", ctypes.c_int), ("bitmap_pad", ctypes.c_int),
        ("depth", ctypes.c_int), ("bytes_per_line", ctypes.c_int),
        ("bits_per_pixel", ctypes.c_int), ("red_mask", ctypes.c_ulong),
        ("green_mask", ctypes.c_ulong), ("blue_mask", ctypes.c_ulong),
    ]


def _xlib():
    lib = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
    lib.XOpenDisplay.restype = ctypes.c_void_p
    lib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    lib.XDefaultRootWindow.restype = ctypes.c_ulong
    lib.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    lib.XGetImage.restype = ctypes.POINTER(_XImage)
    lib.XGetImage.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_int,
                              ctypes.c_uint, ctypes.c_uint, ctypes.c_ulong, ctypes.c_int]
    lib.XDestroyImage = None  # a macro in Xutil.h; the image is freed with XFree
    lib.XFree.argtypes = [ctypes.c_void_p]
    lib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    return lib


def grab(x, y, width, height):
    """The pixels of a rectangle of the screen: a list of rows of (r, g, b)."""
    lib = _xlib()
    display = lib.XOpenDisplay(os.environ["DISPLAY"].encode())
    assert display, "cannot open the display"
    try:
        root = lib.XDefaultRootWindow(display)
        image = lib.XGetImage(display, root, x, y, width, height, _ALL_PLANES, _ZPIXMAP)
        assert image, "XGetImage failed"
        try:
            img = image.contents
            assert img.bits_per_pixel == 32, "expected a 24-bit screen (32 bits a pixel)"
            stride = img.bytes_per_line
            data = ctypes.string_at(img.data, stride * img.height)
            rows = []
            for row in range(img.height):
                line = data[row * stride: row * stride + 4 * img.width]
                # Little-endian 0x00RRGGBB: B, G, R, X in memory.
                rows.append([(line[i + 2], line[i + 1], line[i]) for i in range(0, len(line), 4)])
            return rows
        finally:
            lib.XFree(img.data)
            lib.XFree(image)
    finally:
        lib.XCloseDisplay(display)


def xdotool(*args):
    assert XDOTOOL is not None, "xdotool is not installed"
    result = subprocess.run([XDOTOOL] + [str(a) for a in args], capture_output=True,
                            text=True, timeout=20, check=True)
    return result.stdout.strip()


def glide(start, end, steps=20, pause=0.03):
    """Moves the pointer from @start to @end in small steps."""
    (x0, y0), (x1, y1) = start, end
    for i in range(1, steps + 1):
        xdotool("mousemove", x0 + (x1 - x0) * i // steps, y0 + (y1 - y0) * i // steps)
        time.sleep(pause)
