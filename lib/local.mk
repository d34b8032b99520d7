# lib/: the ground floor (event loops with io_uring, logging, data
# buffers, lists, CRC32C, the byte codec of messages and files);
# includes nothing else of the project.
libtandem_a_SOURCES += \
	lib/list.h \
	lib/loop.h lib/loop.c \
	lib/log.h lib/log.c \
	lib/buf.h lib/buf.c \
	lib/crc32c.h lib/crc32c.c \
	lib/codec.h lib/codec.c \
	lib/writefile.h lib/writefile.c \
	lib/escape.h lib/escape.c \
	lib/iscsi_name.h lib/iscsi_name.c \
	lib/lockorder.h lib/lockorder.c \
	lib/sdnotify.h lib/sdnotify.c
EXTRA_DIST += lib/README.md
