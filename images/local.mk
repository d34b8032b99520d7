# images/: the systemd units (installed by make install) and the
# appliance image's build (images/build.sh, not part of make).
systemdsystemunit_DATA = images/systemd/tandemd.service \
	images/systemd/tandem-agentd.service
tandemdatadir = $(datadir)/tandem
tandemdata_DATA = images/systemd/tandemd-cluster.conf
EXTRA_DIST += images/README.md images/build.sh images/configure-rootfs.sh \
	images/systemd/tandemd.service images/systemd/tandem-agentd.service \
	images/systemd/tandemd-cluster.conf
