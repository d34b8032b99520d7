# backstores: one file per backstore, picked by handler in registry.c
libtandem_a_SOURCES += \
	backstores/bs_internal.h \
	backstores/registry.c \
	backstores/uring_io.c \
	backstores/file.c \
	backstores/block.c \
	backstores/null.c \
	backstores/ram.c \
	backstores/cdrom.c
if HAVE_RBD
libtandem_a_SOURCES += backstores/rbd.c
endif
EXTRA_DIST += backstores/README.md
