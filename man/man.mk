# Man pages: man/NAME.SECTION.md (go-md2man markdown) -> build/man/NAME.SECTION.
MAN_SRCS := $(wildcard man/*.[0-9].md)
MAN_PAGES := $(MAN_SRCS:man/%.md=$(B)/man/%)

man: $(MAN_PAGES)

$(B)/man/%: man/%.md
	@mkdir -p $(dir $@)
	go-md2man -in $< -out $@

install-man: man
	install -d $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man7
	for p in $(MAN_PAGES); do \
		case $$p in \
		*.8) install -m 0644 $$p $(DESTDIR)$(MANDIR)/man8/ ;; \
		*.7) install -m 0644 $$p $(DESTDIR)$(MANDIR)/man7/ ;; \
		esac; \
	done

.PHONY: install-man
