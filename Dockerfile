# The smartpark project image: one image, every service (`smartpark <command>`).
FROM python:3.12-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN useradd --system --create-home --home-dir /var/lib/smartpark smartpark \
    && install -d -o smartpark -g smartpark -m 0700 /var/lib/smartpark-cold  # the cold tier's volume
# The report packs' PDFs embed Noto Sans CJK (reports/render_pdf.py looks in /usr/share/fonts/opentype/noto/).
RUN apt-get update && apt-get install -y --no-install-recommends fonts-noto-cjk && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY smartpark ./smartpark
COPY hj212 ./hj212
COPY operations ./operations
COPY ingest ./ingest
COPY forwarding ./forwarding
COPY aggregation ./aggregation
COPY storage ./storage
COPY alerting ./alerting
COPY api ./api
COPY reports ./reports
COPY region ./region
COPY emergency ./emergency
COPY energy ./energy
COPY device_sim ./device_sim
COPY dashboards ./dashboards
# Editable, so the API finds the ops-centre page (dashboards/web) beside its package.
RUN pip install -e . && smartpark --help >/dev/null
USER smartpark
EXPOSE 8040 8212
ENTRYPOINT ["smartpark"]
CMD ["up"]
