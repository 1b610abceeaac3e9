# Fuzzing with libFuzzer (clang): included by GNUmakefile.
#
#   make fuzz                   every harness for FUZZ_SECONDS (60) each
#   make fuzz FUZZ_SECONDS=0    every input of the corpora once (regression)
#   make fuzz FUZZ_ONLY="addr conf"   some harnesses only
#   make fuzz-build             build only
#
# The library is compiled again with clang and the sanitizers into
# FUZZ_DIR, apart from the normal build.  New inputs go to
# FUZZ_DIR/corpus/NAME (the seeds in tests/fuzz/corpus/NAME are only
# read); an input that crashes, leaks or trips a sanitizer is left in
# FUZZ_DIR/findings/NAME/ and the run fails.

FUZZ_DIR	?= build/fuzz-clang
FUZZ_CC		?= clang
FUZZ_SECONDS	?= 60
FUZZ_ONLY	?=
FUZZ_SANITIZE	:= -fsanitize=address,undefined \
		   -fno-sanitize-recover=undefined -fno-omit-frame-pointer
# clang asks for format attributes on va_list wrappers; gcc does not.
FUZZ_CFLAGS	:= -std=c11 -g -O1 $(WARNFLAGS) -Wno-format-nonliteral \
		   $(FUZZ_SANITIZE) -fsanitize=fuzzer-no-link \
		   $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
FUZZ_CPPFLAGS	:= -D_GNU_SOURCE -Ilib -Itests/fuzz \
		   -DSENDQ_VERSION=\"$(VERSION)\" \
		   -DSENDQ_CONF_PATH=\"/nonexistent/sendq.conf\" \
		   -DSENDQ_SPOOLDIR=\"/nonexistent/spool\"

# NAME:MAX_LEN, the largest input worth trying for each harness.
FUZZ_TARGETS	:= smtp_reply:2048 smtp_client:16384 ehlo:4096 addr:4096 \
		   mail:65536 ctlfile:8192 alias:16384 conf:16384 \
		   sasl:2048 smtpd:16384 ipc:16384 oauth2:16384 notify:4096
FUZZ_NAMES	:= $(foreach t,$(FUZZ_TARGETS),$(word 1,$(subst :, ,$(t))))
FUZZ_BINS	:= $(FUZZ_NAMES:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_RUN	:= $(if $(FUZZ_ONLY),$(filter $(addsuffix :%,$(FUZZ_ONLY)),\
		   $(FUZZ_TARGETS)),$(FUZZ_TARGETS))
FUZZ_LIB_OBJS	:= $(LIB_SRCS:%.c=$(FUZZ_DIR)/%.o)
FUZZ_LIBA	:= $(FUZZ_DIR)/libsendq-fuzz.a
FUZZ_COMMON	:= $(FUZZ_DIR)/tests/fuzz/common.o

.PHONY: fuzz fuzz-build deps-fuzz

# clang and its libFuzzer runtime, installed when root (tests/deps.sh).
deps-fuzz:
	@sh tests/deps.sh fuzz

fuzz-build: deps-fuzz
	@$(MAKE) --no-print-directory $(FUZZ_BINS)

fuzz: deps-fuzz $(foreach t,$(FUZZ_RUN),$(FUZZ_DIR)/fuzz_$(word 1,$(subst :, ,$(t))))
	@FUZZ_DIR=$(FUZZ_DIR) FUZZ_SECONDS=$(FUZZ_SECONDS) \
	    sh tests/fuzz/run.sh $(FUZZ_RUN)

$(FUZZ_DIR)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_LIBA): $(FUZZ_LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

# The harness comes first, so that what it defines (smtp_client's
# net_connect) is not taken from the library.
$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/tests/fuzz/%.o $(FUZZ_COMMON) $(FUZZ_LIBA)
	$(FUZZ_CC) $(FUZZ_SANITIZE) -fsanitize=fuzzer -o $@ $^ $(LIBS)

-include $(FUZZ_LIB_OBJS:.o=.d) $(FUZZ_NAMES:%=$(FUZZ_DIR)/tests/fuzz/%.d) \
	$(FUZZ_COMMON:.o=.d)

# Keep the harnesses' objects: make would delete them as intermediates.
.SECONDARY: $(FUZZ_NAMES:%=$(FUZZ_DIR)/tests/fuzz/%.o) $(FUZZ_COMMON)
