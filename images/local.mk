# images/: the systemd units (installed by make install) and the
# appliance image's build (images/build.sh, not part of make).
systemdsystemunit_DATA = images/systemd/tandemd.service \
	images/systemd/tandem-agentd.service
tandemdatadir = $(datadir)/tandem
tandemdata_DATA = images/systemd/tandemd-cluster.conf
# tandem-setup: the first-boot tool (sbin), from tandem-setup.in
sbin_SCRIPTS = images/tandem-setup
CLEANFILES += images/tandem-setup
dist_man_MANS += images/tandem-setup.8
images/tandem-setup: $(srcdir)/images/tandem-setup.in Makefile
	$(AM_V_GEN)$(MKDIR_P) images && rm -f $@ $@.tmp && \
	$(SED) -e 's|@PACKAGE_VERSION[@]|$(PACKAGE_VERSION)|g' $(srcdir)/images/tandem-setup.in >$@.tmp && \
	chmod 755 $@.tmp && mv $@.tmp $@

EXTRA_DIST += images/README.md images/build.sh images/configure-rootfs.sh \
	images/tandem-setup.in \
	images/systemd/tandemd.service images/systemd/tandem-agentd.service \
	images/systemd/tandemd-cluster.conf
