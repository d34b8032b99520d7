libtandem_a_SOURCES += \
	core/core.h \
	core/loop.c \
	core/buf.c \
	core/log.c \
	core/sense.c \
	core/cmd.c \
	core/ua.c \
	core/tmf.c \
	core/lu.c \
	core/target.c \
	core/optable.c \
	core/spc.c \
	core/mode.c \
	core/sbc.c \
	core/thin.c \
	core/rsoc.c \
	core/caw.c \
	core/xcopy.c \
	core/cluster.c \
	core/optable_mmc.c \
	core/mmc.c
