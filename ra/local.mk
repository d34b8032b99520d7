# ra/: the OCF resource agents ocf:tandem:target and ocf:tandem:alua,
# installed to $(OCF_ROOT_DIR)/resource.d/tandem (configure
# --with-ocf-root, resource-agents' default ${prefix}/lib/ocf). Built from
# ra/NAME.in with the installation's paths (@sbindir@) and version.
ocfdir = $(OCF_ROOT_DIR)/resource.d/tandem
ocf_SCRIPTS = ra/target ra/alua
CLEANFILES += ra/target ra/alua
EXTRA_DIST += ra/README.md ra/target.in ra/alua.in

ra_edit = $(SED) -e 's|@sbindir[@]|$(sbindir)|g' \
	-e 's|@PACKAGE_VERSION[@]|$(PACKAGE_VERSION)|g'

ra/target: $(srcdir)/ra/target.in Makefile
	$(AM_V_GEN)$(MKDIR_P) ra && rm -f $@ $@.tmp && \
	$(ra_edit) $(srcdir)/ra/target.in >$@.tmp && chmod 755 $@.tmp && mv $@.tmp $@

ra/alua: $(srcdir)/ra/alua.in Makefile
	$(AM_V_GEN)$(MKDIR_P) ra && rm -f $@ $@.tmp && \
	$(ra_edit) $(srcdir)/ra/alua.in >$@.tmp && chmod 755 $@.tmp && mv $@.tmp $@
