/*
 * Platoons maps: the small Leaflet helper behind /maps/* and `platoons export-map`.
 *
 * - L.platoons.vectorTiles(options): a Leaflet GridLayer that fetches one collection's
 *   Mapbox Vector Tiles (MVT 2.1) from Platoons' own OGC API - Tiles endpoint, decodes them
 *   with the minimal protobuf reader below and fills the polygons on a canvas per tile.
 *   With ``sources`` it switches collection by zoom (the coverage map's H3 resolutions).
 * - L.platoons.pointTiles(options): the same tiles for a point collection (assets of
 *   community value), drawn as clickable circle markers on one canvas over the map, so a
 *   marker near a tile edge is never cut and a click finds every marker under it.
 * - L.platoons.featureLayer(geojson, options): the same styling for embedded GeoJSON
 *   (the self-contained district export, which has no server to ask).
 * - L.platoons.setup(map, config): legend, search box, the group field of the assets map and
 *   click-to-inspect popups (an LSOA's deciles, grant verdicts, an asset's card and what a
 *   group may do, or an LSOA's coverage and the groups working there). Every answer in a
 *   popup comes from the service; nothing is decided here.
 *
 * Needs Leaflet 1.9 only: no jQuery, no Bootstrap, no icon fonts, no network beyond the
 * Platoons service that served the page. Part of Platoons (MIT licence).
 */
(function (window, L) {
  'use strict';

  // ------------------------------------------------------------------------------------------
  // Protobuf reading: only the wire types MVT uses (varint, 64-bit, length-delimited, 32-bit).

  function Reader(bytes) {
    this.buf = bytes;
    this.pos = 0;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  Reader.prototype.varint = function () {
    var buf = this.buf, result = 0, shift = 0, b;
    do {
      if (this.pos >= buf.length) { throw new Error('truncated varint'); }
      b = buf[this.pos++];
      // Bitwise maths is 32-bit: use multiplication past 28 bits (ids stay exact to 2^53).
      if (shift < 28) { result |= (b & 0x7f) << shift; } else { result += (b & 0x7f) * Math.pow(2, shift); }
      shift += 7;
    } while (b & 0x80);
    return result;
  };

  Reader.prototype.skip = function (wireType) {
    if (wireType === 0) { this.varint(); }
    else if (wireType === 1) { this.pos += 8; }
    else if (wireType === 2) { var n = this.varint(); this.pos += n; }
    else if (wireType === 5) { this.pos += 4; }
    else { throw new Error('unsupported protobuf wire type ' + wireType); }
  };

  var utf8 = new TextDecoder('utf-8');

  Reader.prototype.string = function () {
    var n = this.varint(), start = this.pos;
    this.pos += n;
    return utf8.decode(this.buf.subarray(start, start + n));
  };

  Reader.prototype.packed = function (wireType) {
    if (wireType !== 2) { return [this.varint()]; }
    var end = this.varint() + this.pos, out = [];
    while (this.pos < end) { out.push(this.varint()); }
    return out;
  };

  function zigzag(n) { return (n % 2 === 1) ? -(n + 1) / 2 : n / 2; }

  // vector_tile.proto: Tile.Value
  function readValue(r, end) {
    var value = null;
    while (r.pos < end) {
      var tag = r.varint(), field = tag >> 3, wt = tag & 7;
      if (field === 1) { value = r.string(); }
      else if (field === 2) { value = r.view.getFloat32(r.pos, true); r.pos += 4; }
      else if (field === 3) { value = r.view.getFloat64(r.pos, true); r.pos += 8; }
      else if (field === 4 || field === 5) { value = r.varint(); }
      else if (field === 6) { value = zigzag(r.varint()); }
      else if (field === 7) { value = r.varint() !== 0; }
      else { r.skip(wt); }
    }
    return value;
  }

  // vector_tile.proto: Tile.Feature (id 1, tags 2, type 3, geometry 4)
  function readFeature(r, end) {
    var feature = { id: null, tags: [], type: 0, geometry: [] };
    while (r.pos < end) {
      var tag = r.varint(), field = tag >> 3, wt = tag & 7;
      if (field === 1) { feature.id = r.varint(); }
      else if (field === 2) { feature.tags = feature.tags.concat(r.packed(wt)); }
      else if (field === 3) { feature.type = r.varint(); }
      else if (field === 4) { feature.geometry = feature.geometry.concat(r.packed(wt)); }
      else { r.skip(wt); }
    }
    return feature;
  }

  // vector_tile.proto: Tile.Layer (name 1, features 2, keys 3, values 4, extent 5)
  function readLayer(r, end) {
    var layer = { name: '', extent: 4096, keys: [], values: [], features: [] };
    while (r.pos < end) {
      var tag = r.varint(), field = tag >> 3, wt = tag & 7, n;
      if (field === 1) { layer.name = r.string(); }
      else if (field === 2) { n = r.varint(); layer.features.push(readFeature(r, r.pos + n)); }
      else if (field === 3) { layer.keys.push(r.string()); }
      else if (field === 4) { n = r.varint(); layer.values.push(readValue(r, r.pos + n)); }
      else if (field === 5) { layer.extent = r.varint(); }
      else { r.skip(wt); }
    }
    layer.features.forEach(function (f) {
      var props = {};
      for (var i = 0; i + 1 < f.tags.length; i += 2) { props[layer.keys[f.tags[i]]] = layer.values[f.tags[i + 1]]; }
      f.properties = props;
      delete f.tags;
    });
    return layer;
  }

  /** Decode an MVT into {layerName: {extent, features: [{id, type, properties, geometry}]}}. */
  function decodeTile(bytes) {
    var r = new Reader(bytes), layers = {};
    while (r.pos < bytes.length) {
      var tag = r.varint(), field = tag >> 3, wt = tag & 7;
      if (field === 3 && wt === 2) {
        var n = r.varint(), layer = readLayer(r, r.pos + n);
        layers[layer.name] = layer;
      } else { r.skip(wt); }
    }
    return layers;
  }

  /** Geometry commands (MVT 2.1, 4.3) to rings of tile coordinates [x0, y0, x1, y1, ...]. */
  function rings(geometry) {
    var out = [], ring = null, x = 0, y = 0, i = 0;
    while (i < geometry.length) {
      var command = geometry[i] & 7, count = geometry[i] >>> 3;
      i += 1;
      if (command === 1 || command === 2) {
        for (var k = 0; k < count; k++) {
          x += zigzag(geometry[i]); y += zigzag(geometry[i + 1]); i += 2;
          if (command === 1) { ring = [x, y]; out.push(ring); } else { ring.push(x, y); }
        }
      }
      // command 7 (ClosePath) takes no parameters: the path is closed when drawn.
    }
    return out;
  }

  // ------------------------------------------------------------------------------------------
  // Styling shared by tiles and embedded GeoJSON.

  /** The fill colour of a feature, or null to leave it unfilled. A style with ``values``
   *  (code to number, e.g. grant money per resident read from the service) colours by them. */
  function fillColour(style, properties, code) {
    var value = style.values ? style.values[code] : properties[style.property];
    if (value === undefined || value === null) { return style.missing || null; }
    if (style.categories) {
      var colour = style.categories[String(value)];
      return colour === undefined ? (style.missing || null) : colour;
    }
    if (style.breaks) {
      for (var i = 0; i < style.breaks.length; i++) {
        if (value <= style.breaks[i][0]) { return style.breaks[i][1]; }
      }
      return style.breaks[style.breaks.length - 1][1];
    }
    return null;
  }

  // MVT feature ids are the GSS code without its letter (data/sql/refresh_serving.sql:
  // substr(code, 2)::bigint); low-zoom tiles carry no code property, so rebuild it.
  function featureCode(feature) {
    if (feature.properties.code) { return feature.properties.code; }
    // Groups, organisers and H3 cells are known by their reference or cell index.
    if (feature.properties.reference) { return feature.properties.reference; }
    if (feature.properties.cell) { return feature.properties.cell; }
    if (feature.id === null) { return null; }
    var digits = String(feature.id);
    while (digits.length < 8) { digits = '0' + digits; }
    return 'E' + digits;
  }

  // ------------------------------------------------------------------------------------------
  // The grid layer: our tiles, drawn on canvas.

  var PATH_CHUNK = 256;

  function chunks(list) {
    var out = [];
    for (var i = 0; i < list.length; i += PATH_CHUNK) { out.push(list.slice(i, i + PATH_CHUNK)); }
    return out;
  }

  var registry = { map: null, layers: {}, firstFeaturesAt: null, searches: 0, group: '' };
  window.PlatoonsMaps = registry;

  /** Whether the map has settled: every tile layer on it has finished loading and one at least
   *  drew features (what the browser tests and scripts/screenshots.py wait for). */
  registry.settled = function () {
    if (!registry.map) { return false; }
    var layers = Object.keys(registry.layers)
      .map(function (key) { return registry.layers[key]; })
      .filter(function (layer) { return layer._map; });
    return layers.length > 0
      && layers.every(function (layer) { return !layer.isLoading || !layer.isLoading(); })
      && layers.some(function (layer) { return layer.featuresDrawn > 0; });
  };

  // Panes above Leaflet's tile pane (200) and below its overlay pane (400): filled areas, then
  // translucent overlays (group areas), then outlines, then the asset markers (clickable).
  // Place names sit above the data and markers but let clicks through to them (labels pane).
  var PANE_Z = { 'platoons-data': 350, 'platoons-overlays': 355, 'platoons-outlines': 360, 'platoons-point-tiles': 361, 'platoons-points': 380, 'platoons-labels': 390 };

  function ensurePane(map, name, interactive) {
    var pane = map.getPane(name);
    if (!pane) {
      pane = map.createPane(name);
      pane.style.zIndex = PANE_Z[name] || 350;
      if (!interactive) { pane.style.pointerEvents = 'none'; }
    }
    return pane;
  }

  // The first meaningful render: the first features of a data layer on screen (base layers,
  // and overlays flagged firstRender such as the assets; not outline overlays). The benchmark
  // reads this mark, and each layer's own firstDrawnAt.
  function markFirstFeatures(layer) {
    if (layer.firstDrawnAt === undefined) { layer.firstDrawnAt = window.performance.now(); }
    var counts = layer.options.firstRender === undefined ? !layer.options.overlay : layer.options.firstRender;
    if (registry.firstFeaturesAt !== null || !counts) { return; }
    registry.firstFeaturesAt = window.performance.now();
    if (window.performance.mark) { window.performance.mark('platoons:first-features'); }
    registry.firstLayer = layer.options.key;
  }

  // Static tile archives (PMTiles, written by `platoons export-tiles`, e.g. on a CDN), by
  // collection id, from the page (PLATOONS_TILE_ARCHIVES). A layer with filters, or a zoom
  // deeper than its archive holds, reads the live tiles.
  var archives = {};

  function tileArchive(source) {
    var urls = window.PlatoonsTileArchives || {};
    var url = urls[source.layerName];
    if (!url || !window.pmtiles || source.url.indexOf('?') !== -1) { return null; }
    if (!archives[url]) { archives[url] = new window.pmtiles.PMTiles(url); }
    return archives[url];
  }

  /** One tile's MVT bytes: from the layer's archive when it holds that zoom, else the service. */
  function tileBuffer(source, coords, signal) {
    var archive = tileArchive(source);
    var live = function () {
      var url = L.Util.template(source.url, { z: coords.z, x: coords.x, y: coords.y });
      return window.fetch(url, { signal: signal, credentials: 'same-origin' }).then(function (response) {
        if (!response.ok) { throw new Error('tile ' + url + ': HTTP ' + response.status); }
        return response.arrayBuffer();
      });
    };
    if (!archive) { return live(); }
    return archive.getHeader().then(function (header) {
      if (coords.z < header.minZoom || coords.z > header.maxZoom) { return live(); }
      registry.archiveTiles = (registry.archiveTiles || 0) + 1;
      // No tile in the archive is an empty tile (empty ones are left out when it is written).
      return archive.getZxy(coords.z, coords.x, coords.y, signal).then(function (found) {
        return found ? found.data : new ArrayBuffer(0);
      });
    });
  }

  var VectorTiles = L.GridLayer.extend({
    options: {
      url: '',
      layerName: '',
      key: '',
      dataMaxZoom: 16,
      style: null,
      legend: null,
      edition: null,
      pane: 'platoons-data',
      updateWhenZooming: false,
      keepBuffer: 1
    },

    initialize: function (options) {
      L.GridLayer.prototype.initialize.call(this, options);
      this._requests = {};
      this._shared = {};
      this._sharedKeys = [];
      this.tilesDrawn = 0;
      this.featuresDrawn = 0;
      this.tileErrors = 0;
      this.decodeMs = 0;  // main-thread time spent decoding and drawing (benchmark figures)
      this.drawMs = 0;
      registry.layers[this.options.key] = this;
      // When every tile in view has been drawn (the benchmark's "settled" time).
      this.on('load', function () { this.loadedAt = window.performance.now(); });
      this.on('tileunload', function (e) {
        var key = this._tileCoordsToKey(e.coords), request = this._requests[key];
        if (request) { request.abort(); delete this._requests[key]; }
      });
    },

    onAdd: function (map) {
      ensurePane(map, this.options.pane, false);
      L.GridLayer.prototype.onAdd.call(this, map);
    },

    createTile: function (coords, done) {
      var tile = L.DomUtil.create('canvas', 'platoons-tile'), size = this.getTileSize();
      var ratio = window.devicePixelRatio || 1, self = this;
      tile.width = Math.round(size.x * ratio);
      tile.height = Math.round(size.y * ratio);
      tile.style.width = size.x + 'px';
      tile.style.height = size.y + 'px';
      tile.platoonsCodes = [];
      // Past the collection's last zoom, draw the part of its deepest tile under this one, at
      // full resolution (Leaflet's own overscaling would stretch the pixels).
      var dz = Math.max(0, coords.z - this.options.dataMaxZoom);
      var source = dz ? { z: coords.z - dz, x: coords.x >> dz, y: coords.y >> dz } : coords;
      var part = { dz: dz, dx: coords.x - (source.x << dz), dy: coords.y - (source.y << dz) };
      return this._fill(tile, source, dz === 0 ? this._tileCoordsToKey(coords) : null, done,
        function (layer) { return self._draw(tile, layer, coords.z, part); });
    },

    /** Request a tile's source (see ``_source``), draw it with ``draw(layer)`` (which returns
     *  the features it drew), count and time the drawing, then hand the tile to Leaflet's
     *  ``done``: the area and point tiles' common work. */
    _fill: function (tile, source, abortKey, done, draw) {
      var self = this;
      this._source(source, abortKey)
        .then(function (layer) {
          var started = window.performance.now();
          var drawn = layer ? draw(layer) : 0;
          self.drawMs += window.performance.now() - started;
          self.tilesDrawn += 1;
          self.featuresDrawn += drawn;
          if (drawn > 0) { markFirstFeatures(self); }
          done(null, tile);
        })
        .catch(function (error) {
          if (error.name === 'AbortError') { return; }
          self.tileErrors += 1;
          done(error, tile);
        });
      return tile;
    },

    /** Fetch and decode one tile of the collection: this layer's part of it, or undefined.
     *  ``abortKey`` names a tile whose unloading cancels the request; deepest-zoom tiles
     *  shared by several overscaled tiles are kept (a few) and never cancelled. */
    /** Leaflet's test, and the test of the zoom's own collection's extent (``sources``). */
    _isValidTile: function (coords) {
      if (!L.GridLayer.prototype._isValidTile.call(this, coords)) { return false; }
      var source = this.sourceAt(coords.z);
      if (source.tilejson && !source.bounds) { this._readBounds(source); return false; }
      return !source.bounds || L.latLngBounds(source.bounds).overlaps(this._tileCoordsToBounds(coords));
    },

    /** Read a collection's extent from its TileJSON, then draw the tiles it bounds. */
    _readBounds: function (source) {
      if (source.reading) { return; }
      var self = this, inset = this.options.boundsInset || 0;
      source.reading = true;
      this._boundsPending = (this._boundsPending || 0) + 1;
      getJson(source.tilejson).then(function (result) {
        self._boundsPending -= 1;
        if (!result.ok) { self.tileErrors += 1; source.reading = false; return; }
        var b = result.body.bounds;  // west, south, east, north
        source.bounds = [[b[1] + inset, b[0] + inset], [b[3] - inset, b[2] - inset]];
        if (self._map) { self.redraw(); }
      });
    },

    /** Loading while tiles, or the extent that decides which tiles, are on their way. */
    isLoading: function () {
      return this._boundsPending > 0 || L.GridLayer.prototype.isLoading.call(this);
    },

    /** The collection drawn at a zoom: ``sources`` (by minZoom, ascending) or the one url. */
    sourceAt: function (zoom) {
      var found = { url: this.options.url, layerName: this.options.layerName, key: this.options.key };
      (this.options.sources || []).forEach(function (s) { if (zoom >= s.minZoom) { found = s; } });
      return found;
    },

    _source: function (coords, abortKey) {
      var source = this.sourceAt(coords.z), self = this;
      var key = source.layerName + ':' + coords.z + '/' + coords.x + '/' + coords.y;
      if (!abortKey && this._shared[key]) { return this._shared[key]; }
      var controller = abortKey ? new AbortController() : null;
      if (controller) { this._requests[abortKey] = controller; }
      var loaded = tileBuffer(source, coords, controller ? controller.signal : undefined)
        .then(function (buffer) {
          var started = window.performance.now();
          var layer = decodeTile(new Uint8Array(buffer))[source.layerName];
          self.decodeMs += window.performance.now() - started;
          return layer;
        })
        .finally(function () { if (abortKey) { delete self._requests[abortKey]; } });
      if (!abortKey) {
        this._sharedKeys.push(key);
        this._shared[key] = loaded;
        if (this._sharedKeys.length > 32) { delete this._shared[this._sharedKeys.shift()]; }
        loaded.catch(function () { delete self._shared[key]; });
      }
      return loaded;
    },

    _draw: function (canvas, layer, zoom, part) {
      var style = this.options.style, ctx = canvas.getContext('2d'), drawn = 0;
      var span = layer.extent / (1 << part.dz);  // source units across this tile
      var scale = canvas.width / span, x0 = part.dx * span, y0 = part.dy * span;
      var byColour = {}, outlines = {};
      layer.features.forEach(function (feature) {
        if (feature.type !== 3) { return; }  // polygons only
        var parts = rings(feature.geometry);
        if (style.fill !== false) {
          var colour = fillColour(style, feature.properties, featureCode(feature));
          if (colour === null) { return; }
          (byColour[colour] = byColour[colour] || []).push(parts);
        }
        // An outline colour per category (active groups purple, the others grey), or one.
        var stroke = (style.strokeCategories && style.strokeCategories[String(feature.properties[style.property])]) || style.stroke;
        (outlines[stroke] = outlines[stroke] || []).push(parts);
        canvas.platoonsCodes.push(featureCode(feature));
        drawn += 1;
      });
      function trace(list) {
        ctx.beginPath();
        list.forEach(function (parts) {
          parts.forEach(function (ring) {
            ctx.moveTo((ring[0] - x0) * scale, (ring[1] - y0) * scale);
            for (var i = 2; i < ring.length; i += 2) { ctx.lineTo((ring[i] - x0) * scale, (ring[i + 1] - y0) * scale); }
            ctx.closePath();
          });
        });
      }
      // A few hundred polygons per path: one fill per LSOA is slow, and so is one enormous
      // path (the rasteriser's cost grows faster than its edge count).
      ctx.globalAlpha = style.opacity === undefined ? 1 : style.opacity;
      Object.keys(byColour).forEach(function (colour) {
        ctx.fillStyle = colour;
        chunks(byColour[colour]).forEach(function (chunk) { trace(chunk); ctx.fill('evenodd'); });
      });
      ctx.globalAlpha = 1;
      if (style.stroke && zoom >= (style.strokeMinZoom || 0)) {
        ctx.lineWidth = (style.strokeWidth || 1) * (window.devicePixelRatio || 1);
        ctx.lineJoin = 'round';
        if (style.dash) { ctx.setLineDash(style.dash.map(function (d) { return d * (window.devicePixelRatio || 1); })); }
        Object.keys(outlines).forEach(function (colour) {
          ctx.strokeStyle = colour;
          chunks(outlines[colour]).forEach(function (chunk) { trace(chunk); ctx.stroke(); });
        });
      }
      return drawn;
    },

    /** The codes of the features drawn in the tiles on screen now (for tests and checks). */
    visibleCodes: function () {
      var codes = {};
      if (!this._map) { return []; }
      var view = this._map.getBounds();
      for (var key in this._tiles) {
        var entry = this._tiles[key];
        if (!entry.loaded || !entry.current) { continue; }
        if (!view.overlaps(this._tileCoordsToBounds(entry.coords))) { continue; }
        entry.el.platoonsCodes.forEach(function (code) { codes[code] = true; });
      }
      return Object.keys(codes).sort();
    },

    /** The colour drawn at a container point, as '#rrggbb', or null where nothing is drawn. */
    colourAt: function (point) {
      for (var key in this._tiles) {
        var entry = this._tiles[key], canvas = entry.el;
        if (!entry.loaded || !entry.current) { continue; }
        var rect = canvas.getBoundingClientRect(), box = this._map.getContainer().getBoundingClientRect();
        var x = point.x + box.left - rect.left, y = point.y + box.top - rect.top;
        if (x < 0 || y < 0 || x >= rect.width || y >= rect.height) { continue; }
        var ratio = canvas.width / rect.width;
        var px = canvas.getContext('2d').getImageData(Math.floor(x * ratio), Math.floor(y * ratio), 1, 1).data;
        if (px[3] === 0) { return null; }
        return '#' + [px[0], px[1], px[2]].map(function (v) { return (v < 16 ? '0' : '') + v.toString(16); }).join('');
      }
      return null;
    }
  });

  // ------------------------------------------------------------------------------------------
  // Point tiles: the same MVT tiles, each point a circle marker on one canvas over the map.

  var MARKER_TOLERANCE_PX = 3;

  var PointTiles = VectorTiles.extend({
    options: { pane: 'platoons-point-tiles', markerPane: 'platoons-points' },

    initialize: function (options) {
      VectorTiles.prototype.initialize.call(this, options);
      this._markers = {};    // feature id -> circle marker (shared by the tiles holding it)
      this._tileIds = {};    // tile key -> feature ids it placed
      this.on('tileunload', function (e) { this._release(this._tileCoordsToKey(e.coords)); });
    },

    onAdd: function (map) {
      ensurePane(map, this.options.markerPane, true);
      // A new renderer each time: a Leaflet 1.9 canvas renderer removed from the map keeps a
      // cancelled redraw request and never draws again once re-added.
      this._renderer = L.canvas({ pane: this.options.markerPane, tolerance: MARKER_TOLERANCE_PX });
      this._group = L.layerGroup().addTo(map);
      map.on('zoomend', this._resize, this);
      VectorTiles.prototype.onAdd.call(this, map);
    },

    onRemove: function (map) {
      map.off('zoomend', this._resize, this);
      VectorTiles.prototype.onRemove.call(this, map);
      map.removeLayer(this._group);
      map.removeLayer(this._renderer);  // its canvas too: nothing of the layer stays drawn
      this._markers = {};
      this._tileIds = {};
    },

    createTile: function (coords, done) {
      var tile = L.DomUtil.create('div', 'platoons-tile'), self = this;
      var key = this._tileCoordsToKey(coords);
      tile.platoonsCodes = [];
      var dz = Math.max(0, coords.z - this.options.dataMaxZoom);
      var source = dz ? { z: coords.z - dz, x: coords.x >> dz, y: coords.y >> dz } : coords;
      return this._fill(tile, source, dz === 0 ? key : null, done, function (layer) {
        // A tile unloaded while its request was shared (overscaled) places nothing.
        return self._tiles[key] ? self._place(key, layer, source) : 0;
      });
    },

    /** Marker radius and ring width at a zoom: small dots over a country, rings close up. */
    _size: function (zoom) {
      var style = this.options.style, size = { radius: style.radius || 6, weight: style.strokeWidth || 1.5 };
      (style.sizeByZoom || []).forEach(function (step) {
        if (zoom >= step[0]) { size = { radius: step[1], weight: step[2] }; }
      });
      return size;
    },

    _resize: function () {
      var size = this._size(this._map.getZoom()), markers = this._markers;
      Object.keys(markers).forEach(function (id) {
        markers[id].setRadius(size.radius);
        markers[id].setStyle({ weight: size.weight });
      });
    },

    /** Add (or share) a marker for each point of a decoded tile; return how many it holds. */
    _place: function (key, layer, source) {
      var style = this.options.style, map = this._map, ids = [], self = this, size = this.getTileSize().x;
      var marked = this._size(map.getZoom());
      layer.features.forEach(function (feature) {
        if (feature.type !== 1 || feature.id === null) { return; }  // points with ids only
        rings(feature.geometry).forEach(function (point) {
          var pixel = L.point((source.x + point[0] / layer.extent) * size, (source.y + point[1] / layer.extent) * size);
          var latlng = map.unproject(pixel, source.z), marker = self._markers[feature.id];
          if (!marker) {
            var colour = fillColour(style, feature.properties) || style.missing || '#777777';
            marker = L.circleMarker(latlng, {
              renderer: self._renderer, pane: self.options.markerPane, radius: marked.radius,
              color: style.stroke || '#1b1b1b', weight: marked.weight, opacity: 1,
              fillColor: colour, fillOpacity: 1, bubblingMouseEvents: false
            });
            marker.feature = { id: feature.id, properties: feature.properties, zoom: source.z };
            marker.holders = 0;
            marker.on('click', function (e) { self.fire('featureclick', { marker: marker, latlng: e.latlng, containerPoint: e.containerPoint }); });
            self._markers[feature.id] = marker;
            self._group.addLayer(marker);
          } else if (source.z > marker.feature.zoom) {
            // A deeper tile places the point more exactly and carries more properties.
            marker.setLatLng(latlng);
            marker.feature.zoom = source.z;
            marker.feature.properties = L.extend({}, marker.feature.properties, feature.properties);
          }
          marker.holders += 1;
          ids.push(feature.id);
        });
      });
      this._tileIds[key] = ids;
      return ids.length;
    },

    _release: function (key) {
      var self = this;
      (this._tileIds[key] || []).forEach(function (id) {
        var marker = self._markers[id];
        if (!marker) { return; }
        marker.holders -= 1;
        if (marker.holders <= 0) { self._group.removeLayer(marker); delete self._markers[id]; }
      });
      delete this._tileIds[key];
    },

    /** The markers within reach of a container point (a click), nearest first. */
    markersNear: function (point) {
      var map = this._map, found = [], self = this;
      Object.keys(this._markers).forEach(function (id) {
        var marker = self._markers[id];
        var distance = map.latLngToContainerPoint(marker.getLatLng()).distanceTo(point);
        if (distance <= marker.options.radius + marker.options.weight / 2 + MARKER_TOLERANCE_PX) {
          found.push({ marker: marker, distance: distance });
        }
      });
      found.sort(function (a, b) { return a.distance - b.distance || a.marker.feature.id - b.marker.feature.id; });
      return found.map(function (f) { return f.marker; });
    },

    /** The references of the markers in view (for tests and checks). */
    visibleCodes: function () {
      if (!this._map) { return []; }
      var view = this._map.getBounds(), self = this, codes = {};
      Object.keys(this._markers).forEach(function (id) {
        var marker = self._markers[id];
        if (view.contains(marker.getLatLng())) { codes[marker.feature.properties.reference || id] = true; }
      });
      return Object.keys(codes).sort();
    },

    /** The colour drawn on the markers' canvas at a container point, or null. */
    colourAt: function (point) {
      if (!this._map || !this._renderer._container) { return null; }
      var canvas = this._renderer._container, rect = canvas.getBoundingClientRect();
      var box = this._map.getContainer().getBoundingClientRect();
      var x = point.x + box.left - rect.left, y = point.y + box.top - rect.top;
      if (x < 0 || y < 0 || x >= rect.width || y >= rect.height) { return null; }
      var ratio = canvas.width / rect.width;
      var px = canvas.getContext('2d').getImageData(Math.floor(x * ratio), Math.floor(y * ratio), 1, 1).data;
      if (px[3] === 0) { return null; }
      return '#' + [px[0], px[1], px[2]].map(function (v) { return (v < 16 ? '0' : '') + v.toString(16); }).join('');
    }
  });

  // ------------------------------------------------------------------------------------------
  // Embedded GeoJSON (the district export): same styles, popups from the feature's own values.

  function featureLayer(geojson, options) {
    var style = options.style;
    var layer = L.geoJSON(geojson, {
      style: function (feature) {
        var colour = fillColour(style, feature.properties);
        return {
          fillColor: colour || '#ffffff', fillOpacity: colour ? (style.opacity || 1) : 0,
          color: style.stroke || '#ffffff', weight: style.strokeWidth || 0.5, opacity: 1
        };
      },
      attribution: options.attribution
    });
    layer.options.key = options.key;
    layer.options.legend = options.legend;
    layer.options.edition = options.edition;
    layer.featuresDrawn = layer.getLayers().length;
    layer.visibleCodes = function () {
      return layer.getLayers().map(function (l) { return l.feature.properties.code; }).sort();
    };
    registry.layers[options.key] = layer;
    if (layer.featuresDrawn > 0) { markFirstFeatures(layer); }
    return layer;
  }

  // ------------------------------------------------------------------------------------------
  // Controls: legend, search, popups.

  function el(tag, className, text, parent) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (parent) { parent.appendChild(node); }
    return node;
  }

  /** A control's box: clicks and scrolls on it stay off the map. */
  function panel(className) {
    var div = el('div', className + ' leaflet-bar');
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
    return div;
  }

  // The legend's gap below the top-right controls, the least height it keeps (a title and a
  // line or two, scrolled) however short the map, and the most of the window it takes.
  var LEGEND_MARGIN = 10, LEGEND_MIN_HEIGHT = 60, LEGEND_MOST_OF_WINDOW = 0.6;

  var Legend = L.Control.extend({
    options: { position: 'bottomright' },
    initialize: function (config, options) { L.setOptions(this, options); this._config = config; },
    onAdd: function () {
      this._div = panel('platoons-legend');
      return this._div;
    },
    /** Show one legend, or several (one section each: the base layer's, then overlays'). */
    show: function (legends) {
      var div = this._div, config = this._config;
      div.textContent = '';
      el('h1', 'platoons-title', config.title, div);
      [].concat(legends || []).forEach(function (legend) {
        if (!legend) { return; }
        var section = el('section', 'platoons-legend-section', null, div);
        el('h2', null, legend.title, section);
        var list = el('ul', legend.compact ? 'platoons-compact' : null, null, section);
        if (legend.compact && legend.columns) { list.style.gridTemplateColumns = 'repeat(' + legend.columns + ', auto)'; }
        legend.items.forEach(function (item) {
          var li = el('li', null, null, list);
          var swatch = el('span', 'platoons-swatch' + (item.shape ? ' platoons-swatch-' + item.shape : ''), null, li);
          swatch.style.background = item.colour;
          if (item.border) { swatch.style.borderColor = item.border; }
          if (item.opacity !== undefined) { swatch.style.background = translucent(item.colour, item.opacity); }
          el('span', null, item.label, li);
        });
        if (legend.note) { el('p', 'platoons-note', legend.note, section); }
      });
    }
  });

  /** '#rrggbb' at an opacity, as CSS (a legend swatch of a translucent fill). */
  function translucent(colour, opacity) {
    var n = parseInt(colour.slice(1), 16);
    return 'rgba(' + [(n >> 16) & 255, (n >> 8) & 255, n & 255, opacity].join(', ') + ')';
  }

  /**
   * Keep the legend clear of the controls above it. It stands in the bottom-right corner, on
   * the attribution, and grows upwards: its height is kept to the room between its foot and the
   * top-right controls (the layer list), less a margin, and at most 60% of the window (as the
   * stylesheet has it before this runs); it scrolls within that. Without it,
   * on a screen 800 pixels high the coverage map's legend covered the last entries of the
   * layer list, which could then not be clicked.
   */
  function fitLegend(map, legend) {
    var div = legend.getContainer();
    var top = map.getContainer().querySelector('.leaflet-top.leaflet-right');
    var room = div.getBoundingClientRect().bottom - top.getBoundingClientRect().bottom - LEGEND_MARGIN;
    var most = Math.min(room, LEGEND_MOST_OF_WINDOW * window.innerHeight);
    div.style.maxHeight = Math.max(Math.floor(most), LEGEND_MIN_HEIGHT) + 'px';
  }

  /** Fit the legend now and whenever the map, the layer list or the attribution changes size. */
  function keepLegendFitted(map, legend) {
    var fit = function () { fitLegend(map, legend); };
    fit();
    map.on('resize baselayerchange overlayadd overlayremove', fit);
    if (window.ResizeObserver) {
      // Neither observed box holds the legend, so fitting it cannot set the observer off again.
      var observer = new ResizeObserver(fit);
      var container = map.getContainer();
      observer.observe(container.querySelector('.leaflet-top.leaflet-right'));
      var attribution = container.querySelector('.leaflet-control-attribution');
      if (attribution) { observer.observe(attribution); }
    }
  }

  /** The legends of what is on the map: the base layer's, then each overlay's that has one. */
  function activeLegends(map, config) {
    var base = activeBaseLayer(map), found = [];
    if (base && base.options.legend) { found.push(base.options.legend); }
    Object.keys(registry.layers).forEach(function (key) {
      var layer = registry.layers[key];
      if (layer.options.overlay && layer.options.legend && map.hasLayer(layer)) { found.push(layer.options.legend); }
    });
    return found.length ? found : [config.legend];
  }

  function decileChip(decile, colours, parent) {
    var chip = el('span', 'platoons-chip', decile === null || decile === undefined ? '–' : decile, parent);
    if (colours && colours[decile - 1]) {
      chip.style.background = colours[decile - 1];
      chip.style.color = decile <= 2 || decile >= 9 ? '#ffffff' : '#1b1b1b';
    }
    return chip;
  }

  /** An LSOA's values as a popup block: code, name, district, IMD and domain deciles. */
  function lsoaBlock(lsoa, config) {
    var block = el('div', 'platoons-lsoa');
    block.dataset.lsoaCode = lsoa.code;
    block.dataset.imdDecile = lsoa.imdDecile;
    block.dataset.edition = lsoa.edition || '';
    var head = el('h3', null, null, block);
    el('span', 'platoons-lsoa-name', lsoa.name, head);
    el('span', 'platoons-lsoa-code', lsoa.code, head);
    el('p', 'platoons-where', [lsoa.lad, lsoa.ward ? lsoa.ward + ' ward' : null, lsoa.edition].filter(Boolean).join(' · '), block);
    var table = el('table', 'platoons-deciles', null, block);
    lsoa.deciles.forEach(function (row) {
      var tr = el('tr', row.domain === 'imd' ? 'platoons-imd' : null, null, table);
      tr.dataset.domain = row.domain;
      el('th', null, row.title, tr);
      decileChip(row.decile, config.decileColours, el('td', null, null, tr));
    });
    el('p', 'platoons-note', 'Decile 1 = most deprived 10% of LSOAs in England.', block);
    return block;
  }

  function lsoaFromLookup(body) {
    var imd = body.indices.filter(function (v) { return v.domain === 'imd'; })[0];
    return {
      code: body.lsoa.code, name: body.lsoa.name, lad: body.lad.name,
      ward: body.ward ? body.ward.name : null, edition: body.edition.code,
      imdDecile: imd ? imd.decile : null,
      deciles: body.indices.map(function (v) { return { domain: v.domain, title: v.title, decile: v.decile }; })
    };
  }

  function lsoaFromProperties(p, config) {
    return {
      code: p.code, name: p.name, lad: p.lad_name, ward: p.ward_name, edition: config.edition,
      imdDecile: p.imd_decile,
      deciles: config.domains.filter(function (d) { return p[d[0] + '_decile'] !== undefined && p[d[0] + '_decile'] !== null; })
        .map(function (d) { return { domain: d[0], title: d[1], decile: p[d[0] + '_decile'] }; })
    };
  }

  // The district summary measures a popup lists, in this order (IoD technical report, Appendix N).
  var DISTRICT_MEASURES = [
    ['average_rank', 'IMD average rank'],
    ['average_score', 'IMD average score'],
    ['proportion_most_deprived_10pct', 'IMD LSOAs in the most deprived 10%'],
    ['extent', 'IMD extent'],
    ['local_concentration', 'IMD local concentration']
  ];

  /** A district's IMD ranks among districts, each labelled with its source (published or computed). */
  function districtBlock(area) {
    var block = el('div', 'platoons-district');
    block.dataset.ladCode = area.lad.code;
    el('h4', null, area.lad.name + ' (district, ' + area.edition.code + ')', block);
    var byMeasure = {};
    area.summary_measures.forEach(function (m) { if (m.domain === 'imd') { byMeasure[m.measure] = m; } });
    var table = el('table', 'platoons-facts', null, block);
    DISTRICT_MEASURES.forEach(function (pair) {
      var m = byMeasure[pair[0]];
      if (!m || m.rank === null) { return; }
      var td = factRow(table, pair[1]);
      td.dataset.measure = pair[0];
      td.dataset.rank = m.rank;
      td.dataset.rankSource = m.rank_source;
      td.textContent = 'rank ' + m.rank + (m.rank_source === 'published' ? ' (published by MHCLG)' : ' (computed by Platoons)');
    });
    el('p', 'platoons-note', 'Rank among districts, 1 = most deprived. Published: the edition’s own district summaries; computed: from the LSOA data.', block);
    return block;
  }

  function districtLayerShown(map, config, edition) {
    var ids = config.collections && config.collections[edition];
    var layer = ids ? registry.layers[ids.lad] : null;
    return Boolean(layer && map.hasLayer(layer));
  }

  function programmesBlock(answers) {
    var block = el('div', 'platoons-programmes');
    el('h4', null, 'Grant programmes open today', block);
    if (answers.length === 0) { el('p', 'platoons-note', 'No grant programme is open today.', block); return block; }
    var list = el('ul', null, null, block);
    answers.forEach(function (answer) {
      var li = el('li', answer.eligible ? 'platoons-eligible' : 'platoons-not-eligible', null, list);
      li.dataset.programme = answer.programme.id;
      li.dataset.eligible = answer.eligible ? 'true' : 'false';
      el('strong', 'platoons-verdict', answer.eligible ? 'Eligible' : 'Not eligible', li);
      el('span', 'platoons-programme-name', ' ' + answer.programme.name, li);
      el('div', 'platoons-explanation', answer.explanation, li);
    });
    return block;
  }

  function getJson(url) {
    return window.fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, status: response.status, body: body }; },
          function () { return { ok: false, status: response.status, body: {} }; });
      });
  }

  function problemText(result) {
    return (result.body && (result.body.detail || result.body.title)) || ('HTTP ' + result.status);
  }

  function query(params) {
    return Object.keys(params).filter(function (k) { return params[k] !== null && params[k] !== undefined; })
      .map(function (k) { return encodeURIComponent(k) + '=' + encodeURIComponent(params[k]); }).join('&');
  }

  function activeBaseLayer(map) {
    var found = null;
    Object.keys(registry.layers).forEach(function (key) {
      var layer = registry.layers[key];
      if (!found && !layer.options.overlay && map.hasLayer(layer)) { found = layer; }
    });
    return found;
  }

  function activeEdition(map, config) {
    var layer = activeBaseLayer(map);
    return (layer && layer.options.edition) || config.defaultEdition || null;
  }

  // Neighbourhood planning at the clicked point (config.planning.atUrl): each live area's
  // stage, forum, next statutory deadline and this financial year's levy portion.
  function planningAt(config, lon, lat) {
    if (!config.planning) { return Promise.resolve(null); }
    return getJson(config.planning.atUrl + '?' + query({ lon: lon, lat: lat }));
  }

  function planningBlock(result) {
    var block = el('div', 'platoons-planning');
    block.dataset.kind = 'planning';
    if (!result.ok) { el('p', 'platoons-error', 'Neighbourhood planning: ' + problemText(result), block); return block; }
    if (!result.body.length) { return block; }
    el('h4', null, 'Neighbourhood planning', block);
    var list = el('ul', null, null, block);
    result.body.forEach(function (a) {
      var li = el('li', null, null, list);
      el('strong', null, a.name + ' (' + a.reference + ')', li);
      var facts = [a.stage];
      if (a.forum_reference) { facts.push('forum ' + a.forum_reference + ' ' + a.forum_status); }
      if (a.next_deadline) {
        facts.push((a.next_deadline.passed ? 'overdue since ' : 'next deadline ') + a.next_deadline.ends +
          ' (' + a.next_deadline.kind.replace(/_/g, ' ') + ', ' + a.next_deadline.authority + ')');
      }
      if (a.levy_total !== null && a.levy_total !== undefined) {
        facts.push('levy ' + a.levy_year + ': £' + a.levy_total);
      } else if (a.levy_missing && a.levy_missing.length) {
        facts.push('levy ' + a.levy_year + ': ' + a.levy_missing[0]);
      }
      el('div', 'platoons-explanation', facts.join(' · '), li);
    });
    return block;
  }

  /** A popup opened at ``latlng`` that says it is looking up (until its content is set). */
  function loadingPopup(map, latlng, maxWidth, maxHeight) {
    return L.popup({ maxWidth: maxWidth, maxHeight: maxHeight, className: 'platoons-popup' })
      .setLatLng(latlng).setContent('Looking up…').openOn(map);
  }

  /** A popup's content for a clicked point, marked with the point as the lookups send it. */
  function pointContent(latlng) {
    var content = el('div', 'platoons-popup-content');
    content.dataset.lon = latlng.lng.toFixed(6);
    content.dataset.lat = latlng.lat.toFixed(6);
    return content;
  }

  function inspect(map, config, latlng) {
    var popup = loadingPopup(map, latlng, 380, 440);
    var content = pointContent(latlng);
    var lon = content.dataset.lon, lat = content.dataset.lat;
    var edition = activeEdition(map, config);
    var lookup = getJson(config.lookupUrl + '?' + query({ lon: lon, lat: lat, edition: edition }));
    var eligibility = config.click === 'eligibility'
      ? getJson(config.eligibilityUrl + '?' + query({ lon: lon, lat: lat })) : Promise.resolve(null);
    // With the districts layer on, the popup also gives the district's ranks and their source.
    var district = lookup.then(function (place) {
      if (!place.ok || !config.areasUrl || !districtLayerShown(map, config, place.body.edition.code)) { return null; }
      return getJson(config.areasUrl + '/' + encodeURIComponent(place.body.lad.code) + '?' + query({ edition: place.body.edition.code }));
    });
    var planning = planningAt(config, lon, lat);
    return Promise.all([lookup, eligibility, district, planning]).then(function (results) {
      var place = results[0], grants = results[1], area = results[2], planned = results[3];
      if (!place.ok) {
        el('p', 'platoons-error', problemText(place), content);
      } else {
        content.appendChild(lsoaBlock(lsoaFromLookup(place.body), config));
      }
      if (area && area.ok) { content.appendChild(districtBlock(area.body)); }
      var money = activeBaseLayer(map);
      if (place.ok && money && money.grantNeed) {
        var where = money.options.grantMoney.level === 'lsoa' ? place.body.lsoa : place.body.lad;
        content.appendChild(grantMoneyBlock(money, where));
      }
      if (grants !== null) {
        if (grants.ok) { content.appendChild(programmesBlock(grants.body.answers)); }
        else { el('p', 'platoons-error', 'Eligibility: ' + problemText(grants), content); }
      }
      if (planned !== null) { content.appendChild(planningBlock(planned)); }
      popup.setContent(content);
      registry.lastPopup = content;
      content.dataset.ready = 'true';
      return content;
    });
  }

  // ------------------------------------------------------------------------------------------
  // The assets map: an asset's card and what the chosen group may do (both from the service).

  var MAX_ASSETS_IN_POPUP = 6;

  function urlFor(template, id) { return template.replace('{id}', encodeURIComponent(id)); }

  function label(labels, value) {
    return (labels && labels[value]) || String(value === null || value === undefined ? '–' : value).replace(/_/g, ' ');
  }

  function factRow(table, heading) {
    var tr = el('tr', null, null, table);
    el('th', null, heading, tr);
    return el('td', null, null, tr);
  }

  function verdictBlock(group, result) {
    var block = el('div', 'platoons-group-verdict');
    block.dataset.group = group;
    el('h4', null, 'What ' + group + ' may do today', block);
    if (!result.ok) {
      block.dataset.error = 'true';
      el('p', 'platoons-error', problemText(result), block);
      return block;
    }
    var answer = result.body, list = el('ul', null, null, block);
    block.dataset.mayNominate = answer.may_nominate ? 'true' : 'false';
    block.dataset.mayBid = answer.may_request_to_bid ? 'true' : 'false';
    [['may_nominate', 'Nominate the asset for listing'],
     ['may_request_to_bid', 'Ask to be treated as a potential bidder']].forEach(function (pair) {
      var yes = answer[pair[0]], li = el('li', yes ? 'platoons-eligible' : 'platoons-not-eligible', null, list);
      el('strong', 'platoons-verdict', yes ? 'Yes' : 'No', li);
      el('span', null, ' ' + pair[1] + (yes && pair[0] === 'may_request_to_bid' && answer.window_ends ? ' (until ' + answer.window_ends + ')' : ''), li);
    });
    var reasons = el('ul', 'platoons-reasons', null, block);
    answer.reasons.forEach(function (reason) { el('li', 'platoons-explanation', reason, reasons); });
    return block;
  }

  function assetBlock(config, id, group) {
    var card = getJson(urlFor(config.assets.cardUrl, id));
    var verdict = group ? getJson(urlFor(config.assets.eligibilityUrl, id) + '?' + query({ group: group })) : Promise.resolve(null);
    return Promise.all([card, verdict]).then(function (results) {
      var block = el('div', 'platoons-asset'), result = results[0];
      block.dataset.assetId = id;
      if (!result.ok) { el('p', 'platoons-error', problemText(result), block); return block; }
      var a = result.body, next = a.next_deadline, labels = config.assets.labels;
      block.dataset.reference = a.reference;
      block.dataset.status = a.status;
      block.dataset.nextDeadline = next ? next.ends : '';
      block.dataset.nextDeadlineKind = next ? next.kind : '';
      var head = el('h3', null, null, block);
      el('span', 'platoons-asset-name', a.name, head);
      el('span', 'platoons-lsoa-code', a.reference, head);
      if (a.is_example) { el('p', 'platoons-example', 'Example data: not a real register entry', block); }
      var table = el('table', 'platoons-facts', null, block);
      factRow(table, 'Category').textContent = label(labels.category, a.category);
      factRow(table, 'Owner').textContent = label(labels.owner_type, a.owner_type);
      var status = factRow(table, 'Status');
      var dot = el('span', 'platoons-status-dot', null, status);
      dot.style.background = config.assets.statusColours[a.status] || '#777777';
      el('span', 'platoons-status', label(labels.status, a.status), status);
      var deadline = factRow(table, 'Next deadline');
      if (next) {
        el('span', 'platoons-deadline', next.period + ' ends ' + next.ends, deadline);
        el('div', 'platoons-note', next.authority, deadline);
      } else {
        el('span', 'platoons-deadline', 'none in this status', deadline);
      }
      var area = factRow(table, 'LSOA');
      el('span', null, a.lsoa_code + ' ', area);
      decileChip(a.imd_decile, config.decileColours, area).title = 'IMD decile (1 = most deprived 10%)';
      if (results[1] !== null) {
        block.appendChild(verdictBlock(group, results[1]));
      } else {
        el('p', 'platoons-note platoons-group-hint', 'Enter a group in the “Group” box to see whether it may nominate this asset or ask to bid.', block);
      }
      return block;
    });
  }

  function inspectAssets(map, config, layer, clicked, containerPoint) {
    var near = layer.markersNear(containerPoint);
    if (near.indexOf(clicked) < 0) { near.unshift(clicked); }
    var shown = near.slice(0, MAX_ASSETS_IN_POPUP), group = registry.group;
    var popup = loadingPopup(map, clicked.getLatLng(), 400, 460);
    registry.lastPopup = null;
    registry.reopen = function () {
      if (map.hasLayer(popup)) { inspectAssets(map, config, layer, clicked, map.latLngToContainerPoint(clicked.getLatLng())); }
    };
    return Promise.all(shown.map(function (m) { return assetBlock(config, m.feature.id, group); })).then(function (blocks) {
      var content = el('div', 'platoons-popup-content');
      content.dataset.kind = 'assets';
      content.dataset.assets = String(near.length);
      content.dataset.group = group;
      if (near.length > 1) { el('p', 'platoons-note', near.length + ' assets here' + (near.length > shown.length ? ' (the nearest ' + shown.length + ' shown; zoom in for the rest)' : ''), content); }
      blocks.forEach(function (block) { content.appendChild(block); });
      popup.setContent(content);
      registry.lastPopup = content;
      content.dataset.ready = 'true';
      return content;
    });
  }

  var GroupField = L.Control.extend({
    options: { position: 'topleft' },
    initialize: function (config, options) { L.setOptions(this, options); this._config = config; },
    onAdd: function () {
      var field = this._config.groupField, self = this;
      var form = el('form', 'platoons-group leaflet-bar');
      var caption = el('label', null, null, form);
      el('span', null, field.label + ' ', caption);
      var input = el('input', null, null, caption);
      input.type = 'text';
      input.name = 'group';
      input.maxLength = 200;
      input.autocomplete = 'off';
      input.placeholder = field.placeholder;
      if (field.searchUrl) { this._suggest(input, el('datalist', null, null, form), field.searchUrl); }
      el('button', null, 'Use', form).type = 'submit';
      var initial = new URLSearchParams(window.location.search).get('group');
      if (initial) { input.value = initial; registry.group = initial.trim(); }
      L.DomEvent.disableClickPropagation(form);
      L.DomEvent.disableScrollPropagation(form);
      L.DomEvent.on(form, 'submit', function (e) { L.DomEvent.preventDefault(e); self.use(input.value); });
      L.DomEvent.on(input, 'change', function () { self.use(input.value); });
      this._input = input;
      return form;
    },
    /** Offer the registry's listed groups whose name (or description) holds what is typed. */
    _suggest: function (input, list, url) {
      var timer = null, asked = '';
      list.id = 'platoons-groups';
      input.setAttribute('list', list.id);
      L.DomEvent.on(input, 'input', function () {
        var text = input.value.trim();
        window.clearTimeout(timer);
        if (text.length < 2 || text === asked) { return; }
        timer = window.setTimeout(function () {
          asked = text;
          getJson(url + '?' + query({ q: text, limit: 10 })).then(function (result) {
            if (!result.ok || input.value.trim() !== text) { return; }
            list.textContent = '';
            result.body.groups.forEach(function (group) {
              var option = el('option', null, null, list);
              option.value = group.name;
              option.label = group.reference + ' · ' + group.principal_lad_code + (group.active ? '' : ' · not active');
            });
            registry.groupSuggestions = result.body.groups.map(function (group) { return group.name; });
          });
        }, 250);
      });
    },

    /** Answer for this group from now on (and again in an open asset popup). */
    use: function (value) {
      var group = String(value || '').trim();
      if (group === registry.group) { return; }
      registry.group = group;
      if (registry.reopen) { registry.reopen(); }
    }
  });

  // ------------------------------------------------------------------------------------------
  // The coverage map: adults covered and the groups working where the click falls.

  // Figures as the service gives them (README, Figures): adults to 0.1, shares to 4 decimals
  // (a percentage to 2), shown with every decimal the rule keeps and none it does not.
  function people(n) { return n.toLocaleString('en-GB', { maximumFractionDigits: 1 }); }
  function percent(share) {
    return (Math.round(share * 10000) / 100).toLocaleString('en-GB', { maximumFractionDigits: 2 }) + '%';
  }

  /** An LSOA's coverage (GET /coverage/at): adults covered and not, and the groups there. */
  function coverageBlock(c, config) {
    var block = el('div', 'platoons-coverage');
    block.dataset.lsoaCode = c.code;
    block.dataset.adults = c.adults;
    block.dataset.adultsCovered = c.adults_covered;
    block.dataset.adultsUncovered = c.adults_uncovered;
    block.dataset.coveredShare = c.covered_share;
    block.dataset.coldSpot = c.cold_spot ? 'true' : 'false';
    block.dataset.groups = c.groups.map(function (g) { return g.reference; }).join(' ');
    var head = el('h3', null, null, block);
    el('span', 'platoons-lsoa-name', c.name, head);
    el('span', 'platoons-lsoa-code', c.code, head);
    el('p', 'platoons-where', [c.lad_name, 'coverage as of ' + c.as_of].join(' · '), block);
    var table = el('table', 'platoons-facts', null, block);
    factRow(table, 'Adults (18+)').textContent = people(c.adults);
    factRow(table, 'Covered').textContent = people(c.adults_covered) + ' (' + percent(c.covered_share) + ')';
    factRow(table, 'Not covered').textContent = people(c.adults_uncovered);
    factRow(table, 'Organisers').textContent = c.organisers + (c.organisers ? ' (' + percent(c.organiser_share) + ' of the area)' : '');
    var decile = factRow(table, 'IMD decile');
    decileChip(c.imd_decile, config.decileColours, decile);
    if (c.cold_spot) {
      el('p', 'platoons-error platoons-cold-spot', 'Cold spot: among the most deprived 20% of LSOAs and under ' + percent(config.coverage.coldSpotThreshold) + ' of adults covered.', block);
    }
    el('h4', null, c.groups.length ? 'Groups working here' : 'No listed group works here', block);
    var list = el('ul', 'platoons-groups-list', null, block);
    c.groups.forEach(function (g) {
      var li = el('li', g.active ? 'platoons-eligible' : 'platoons-not-eligible', null, list);
      li.dataset.reference = g.reference;
      li.dataset.active = g.active ? 'true' : 'false';
      el('strong', null, g.name, li);
      el('span', 'platoons-lsoa-code', g.reference, li);
      var facts = [label(null, g.kind), g.active ? 'active' : 'not active',
        percent(g.share_of_lsoa) + ' of this LSOA'];
      if (g.meeting_place) { facts.push('meets at ' + g.meeting_place); }
      if (g.last_activity_on) { facts.push('last activity ' + g.last_activity_on); }
      el('div', 'platoons-explanation', facts.join(' · '), li);
      if (config.coverage.crimePackUrl) {
        var groupPack = el('a', 'platoons-crime-pack', 'Crime in the group\'s area (beat-meeting pack)', li);
        groupPack.href = config.coverage.crimePackUrl + '?area=' + encodeURIComponent(g.reference);
      }
    });
    if (config.coverage.crimePackUrl) {
      var pack = el('a', 'platoons-crime-pack', 'Street-level crime here: beat-meeting pack', el('p', null, null, block));
      pack.href = config.coverage.crimePackUrl + '?area=' + encodeURIComponent(c.code);
    }
    return block;
  }

  function inspectCoverage(map, config, latlng) {
    var popup = loadingPopup(map, latlng, 400, 460);
    var content = pointContent(latlng);
    var lon = content.dataset.lon, lat = content.dataset.lat;
    content.dataset.kind = 'coverage';
    registry.lastPopup = null;
    var at = getJson(config.coverage.atUrl + '?' + query({ lon: lon, lat: lat }));
    return Promise.all([at, planningAt(config, lon, lat)]).then(function (results) {
      var result = results[0];
      if (!result.ok) { el('p', 'platoons-error', problemText(result), content); }
      else { content.appendChild(coverageBlock(result.body, config)); }
      if (results[1] !== null) { content.appendChild(planningBlock(results[1])); }
      popup.setContent(content);
      registry.lastPopup = content;
      content.dataset.ready = 'true';
      return content;
    });
  }

  var GSS = /^[EW][0-9]{8}$/i;

  var Search = L.Control.extend({
    options: { position: 'topleft' },
    initialize: function (config, options) { L.setOptions(this, options); this._config = config; },
    onAdd: function (map) {
      var form = el('form', 'platoons-search leaflet-bar'), config = this._config, self = this;
      form.setAttribute('role', 'search');
      var input = el('input', null, null, form);
      input.type = 'search';
      input.name = 'q';
      input.placeholder = config.search.placeholder;
      input.setAttribute('aria-label', config.search.placeholder);
      el('button', null, 'Find', form).type = 'submit';
      this._status = el('div', 'platoons-search-status', null, form);
      this._status.setAttribute('aria-live', 'polite');
      this._highlight = L.featureGroup().addTo(map);
      L.DomEvent.disableClickPropagation(form);
      L.DomEvent.disableScrollPropagation(form);
      L.DomEvent.on(form, 'submit', function (e) {
        L.DomEvent.preventDefault(e);
        self.find(map, input.value);
      });
      return form;
    },

    find: function (map, text) {
      var q = String(text || '').trim(), self = this, config = this._config;
      registry.searches += 1;
      if (!q) { this._say(''); return Promise.resolve(null); }
      this._say('Searching…');
      var found = config.search.mode === 'local' ? this._local(q)
        : (GSS.test(q) ? this._byCode(map, q.toUpperCase()) : this._byPostcode(q));
      return found.then(function (result) {
        if (!result.feature) { self._say(result.message); return null; }
        self._highlight.clearLayers();
        var outline = L.geoJSON(result.feature, { style: { color: '#111111', weight: 3, fill: false } });
        self._highlight.addLayer(outline);
        map.fitBounds(outline.getBounds(), { maxZoom: 15, padding: [20, 20], animate: false });
        self._say(result.message);
        self._container.dataset.found = result.code;
        return result;
      }, function (error) { self._say('Search failed: ' + error.message); return null; });
    },

    _say: function (message) { this._status.textContent = message; },

    _collection: function (kind, edition) {
      var editions = this._config.collections[edition] || {};
      return editions[kind];
    },

    _item: function (kind, edition, code, label) {
      var collection = this._collection(kind, edition);
      if (!collection) { return Promise.resolve({ feature: null, message: 'No ' + kind + ' layer for ' + edition }); }
      return getJson(this._config.collectionsUrl + '/' + encodeURIComponent(collection) + '/items/' + encodeURIComponent(code))
        .then(function (item) {
          if (!item.ok) { return { feature: null, message: problemText(item) }; }
          return { feature: item.body, code: code, message: label };
        });
    },

    _byCode: function (map, code) {
      var self = this, edition = activeEdition(map, this._config);
      return getJson(this._config.areasUrl + '/' + encodeURIComponent(code) + '?' + query({ edition: edition }))
        .then(function (area) {
          if (!area.ok) { return { feature: null, message: problemText(area) }; }
          var body = area.body, ref = body.type === 'lsoa' ? body.lsoa : body.lad;
          return self._item(body.type, body.edition.code, ref.code, ref.name + ' (' + ref.code + ')');
        });
    },

    _byPostcode: function (postcode) {
      // The postcode's LSOA comes from the postcode directory (GET /maps/postcode), not from
      // the generalised boundaries its centroid may fall just outside of.
      var self = this, config = this._config;
      return getJson(config.postcodeUrl + '?' + query({ postcode: postcode, edition: activeEdition(registry.map, config) }))
        .then(function (result) {
          if (!result.ok) { return { feature: null, message: problemText(result) }; }
          var place = result.body;
          var label = place.postcode + ': ' + place.lsoa_name + ' (' + place.lsoa_code + ')';
          return self._item('lsoa', place.edition, place.lsoa_code, label);
        });
    },

    _local: function (q) {
      var needle = q.toUpperCase(), match = null;
      Object.keys(registry.layers).forEach(function (key) {
        var layer = registry.layers[key];
        if (match || !layer.eachLayer) { return; }
        layer.eachLayer(function (l) {
          var p = l.feature && l.feature.properties;
          if (!match && p && (String(p.code).toUpperCase() === needle || String(p.name).toUpperCase() === needle)) { match = l.feature; }
        });
      });
      if (!match) { return Promise.resolve({ feature: null, message: 'No LSOA ' + q + ' in this map' }); }
      return Promise.resolve({ feature: match, code: match.properties.code, message: match.properties.name + ' (' + match.properties.code + ')' });
    }
  });

  // Place names written as text in the page (screen readers and find read them): district
  // names below config.wardLabelZoom, ward names from it, from GET /maps/labels for the view.
  var PlaceLabels = L.Layer.extend({
    initialize: function (config) { this._config = config; this._markers = {}; this._level = null; this._asked = null; },
    onAdd: function (map) {
      ensurePane(map, 'platoons-labels', false);
      map.on('moveend', this._update, this);
      this._update();
    },
    onRemove: function (map) {
      map.off('moveend', this._update, this);
      this._clear();
    },
    _clear: function () {
      var markers = this._markers;
      Object.keys(markers).forEach(function (code) { markers[code].remove(); });
      this._markers = {};
    },
    _update: function () {
      var map = this._map, self = this;
      var level = map.getZoom() >= this._config.wardLabelZoom ? 'ward' : 'district';
      if (level !== this._level) { this._clear(); this._level = level; }
      var b = map.getBounds().pad(0.25);
      var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(4); }).join(',');
      var asked = level + ' ' + bbox;
      this._asked = asked;
      return getJson(this._config.labelsUrl + '?' + query({ level: level, bbox: bbox })).then(function (result) {
        if (!result.ok || self._asked !== asked || !self._map) { return; }
        result.body.labels.forEach(function (place) {
          if (self._markers[place.code]) { return; }
          var icon = L.divIcon({ className: 'platoons-place-label platoons-place-' + level, html: '', iconSize: null });
          var marker = L.marker([place.lat, place.lon], { icon: icon, interactive: false, keyboard: false, pane: 'platoons-labels' }).addTo(map);
          var label = el('span', 'platoons-place-name', place.name, marker.getElement());
          label.dataset.code = place.code;
          label.title = place.name + ' (' + place.code + ')';
          self._markers[place.code] = marker;
        });
        registry.placeLabels = Object.keys(self._markers).length;
      });
    }
  });

  // The LSOA under the pointer, named in a tooltip once the pointer rests (GET lsoaNameUrl:
  // nulls, never a 404, where there is no LSOA).
  function hoverNames(map, config) {
    var timer = null, tooltip = L.tooltip({ direction: 'top', offset: [0, -10], className: 'platoons-hover-label', opacity: 0.95 });
    var asked = 0;
    map.on('mousemove', function (e) {
      if (timer) { window.clearTimeout(timer); }
      timer = window.setTimeout(function () {
        var mine = ++asked, ll = e.latlng.wrap();
        getJson(config.lsoaNameUrl + '?' + query({ lon: ll.lng.toFixed(6), lat: ll.lat.toFixed(6), edition: activeEdition(map, config) }))
          .then(function (result) {
            if (mine !== asked) { return; }
            if (!result.ok || !result.body.code) { map.closeTooltip(tooltip); return; }
            var lsoa = result.body, text = document.createElement('span');
            text.className = 'platoons-hover-lsoa';
            text.textContent = lsoa.name + ' (' + lsoa.code + ')';
            tooltip.setLatLng(e.latlng).setContent(text);
            if (!map.hasLayer(tooltip)) { map.openTooltip(tooltip); }
            registry.hoverLabel = text.textContent;
          });
      }, 350);
    });
    map.on('mouseout', function () { if (timer) { window.clearTimeout(timer); } asked += 1; map.closeTooltip(tooltip); });
  }

  // ------------------------------------------------------------------------------------------
  // Grant money against need: districts shaded by pounds per resident (one source a layer,
  // never added together), a click giving the district's figure, and a chart by IMD decile;
  // every figure as GET /grants/need gives it.

  function grantSource(body, source) {
    return body.sources.filter(function (s) { return s.source === source; })[0];
  }

  /** The figures of a layer's level (districts or LSOAs) from one source. */
  function grantFigures(need, options) {
    var source = grantSource(need, options.source);
    return options.level === 'lsoa' ? source.by_lsoa : source.by_district;
  }

  /** The area's money from the shown source (district or LSOA, as the layer), as a popup block. */
  function grantMoneyBlock(layer, area) {
    var options = layer.options.grantMoney, need = layer.grantNeed;
    var found = grantFigures(need, options).filter(function (d) { return d.code === area.code; })[0];
    var block = el('div', 'platoons-grant-money');
    block.dataset.grantSource = options.source;
    block.dataset.level = options.level;
    block.dataset.code = area.code;
    block.dataset.poundsPerResident = found && found.pounds_per_resident !== null ? found.pounds_per_resident : '';
    block.dataset.amount = found ? found.amount : '0';
    block.dataset.grants = found ? String(found.grants) : '0';
    el('h4', null, options.label + ': ' + (area.name || area.code), block);
    if (found) {
      el('p', 'platoons-grant-figure', '£' + (found.pounds_per_resident === null ? '–' : found.pounds_per_resident) + ' per resident', block);
      el('p', 'platoons-note', '£' + found.amount + ' in ' + found.grants + ' grant' + (found.grants === 1 ? '' : 's') +
        (found.residents ? ' over ' + found.residents.toLocaleString('en-GB') + ' residents' : '') + ' (' + need.edition + ').', block);
    } else {
      el('p', 'platoons-grant-figure', 'No money from this source placed in the ' + (options.level === 'lsoa' ? 'LSOA' : 'district') + '.', block);
    }
    el('p', 'platoons-note', 'This source only; the other is a separate layer, never added to it.', block);
    return block;
  }

  function svg(tag, attrs, parent) {
    var node = document.createElementNS('http://www.w3.org/2000/svg', tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) { parent.appendChild(node); }
    return node;
  }

  /** Pounds per resident by IMD decile, both sources side by side (a bar each, never one). */
  var GrantChart = L.Control.extend({
    options: { position: 'bottomleft' },
    onAdd: function () {
      this._div = panel('platoons-grant-chart');
      return this._div;
    },
    show: function (layer) {
      var div = this._div, options = layer.options.grantMoney, need = layer.grantNeed;
      div.textContent = '';
      div.dataset.edition = need.edition;
      el('h2', null, 'Grant money per resident by IMD decile, ' + (need.area || 'England') + ' (' + need.edition + ')', div);
      var sources = ['imported', 'platoons'].map(function (name) { return grantSource(need, name); });
      var top = 0;
      sources.forEach(function (s) { s.by_decile.forEach(function (d) { top = Math.max(top, parseFloat(d.pounds_per_resident)); }); });
      var width = 300, height = 120, left = 8, band = (width - left) / 10, bar = band * 0.4;
      var chart = svg('svg', { width: width, height: height + 16, viewBox: '0 0 ' + width + ' ' + (height + 16), role: 'img' }, div);
      svg('title', {}, chart).textContent = 'Pounds per resident by IMD decile: ' + sources.map(function (s) { return s.label; }).join(' beside ');
      sources.forEach(function (s, i) {
        s.by_decile.forEach(function (d) {
          var value = parseFloat(d.pounds_per_resident), h = top > 0 ? (value / top) * (height - 4) : 0;
          var rect = svg('rect', {
            x: left + (d.decile - 1) * band + i * bar + band * 0.1, y: height - h, width: bar, height: Math.max(h, 0.5),
            fill: options.colours[s.source], 'class': 'platoons-grant-bar'
          }, chart);
          rect.dataset.source = s.source;
          rect.dataset.decile = String(d.decile);
          rect.dataset.poundsPerResident = d.pounds_per_resident;
          svg('title', {}, rect).textContent = s.label + ', decile ' + d.decile + ': £' + d.pounds_per_resident + ' per resident (£' + d.amount + ')';
        });
      });
      for (var decile = 1; decile <= 10; decile++) {
        svg('text', { x: left + (decile - 0.5) * band, y: height + 13, 'text-anchor': 'middle', 'font-size': 10 }, chart).textContent = String(decile);
      }
      var keys = el('ul', 'platoons-compact', null, div);
      sources.forEach(function (s) {
        var li = el('li', null, null, keys);
        el('span', 'platoons-swatch', null, li).style.background = options.colours[s.source];
        el('span', null, s.label + (s.source === options.source ? ' (shown on the map)' : ''), li);
      });
      var notes = [];
      sources.forEach(function (s) {
        s.not_by_decile.forEach(function (m) {
          notes.push(s.label + ': £' + m.amount + ' in ' + m.grants + ' grant(s) placed on a whole ' + (m.level === 'lad' ? 'district' : m.level) + ', no single decile (in the district figures only)');
        });
      });
      el('p', 'platoons-note', 'Decile 1 = most deprived 10% of LSOAs in England. Tallest bar £' + top.toFixed(2) + ' per resident. ' + notes.join('. ') + (notes.length ? '.' : ''), div);
      div.style.display = '';
    },
    hide: function () { if (this._div) { this._div.style.display = 'none'; } }
  });

  /** Credit the imported files (publisher, licence as the file states it) once they are known. */
  function grantCredits(need, options) {
    if (options.source !== 'imported') { return ''; }
    var files = grantSource(need, 'imported').files || [];
    if (!files.length) { return ' No 360Giving file imported yet.'; }
    return ' 360Giving files: ' + files.map(function (f) {
      return f.source_name + ' (' + (f.publisher_name || f.funders.join(', ')) + '; licence: ' + (f.licence || 'not stated in the file') + ')';
    }).join('; ') + '.';
  }

  function escapeHtml(text) {
    var node = document.createElement('span');
    node.textContent = text;
    return node.innerHTML;
  }

  /** Read the layer's figures from GET /grants/need (once), colour by them, credit them. */
  function loadGrantMoney(map, layer, chart) {
    if (!layer._grantNeedLoading) {
      var options = layer.options.grantMoney;
      // One answer serves every grant money layer of the page.
      var answers = registry.grantNeedAnswers = registry.grantNeedAnswers || {};
      answers[options.url] = answers[options.url] || getJson(options.url);
      layer._grantNeedLoading = answers[options.url].then(function (result) {
        if (!result.ok) { options.error = problemText(result); return; }
        var values = {};
        grantFigures(result.body, options).forEach(function (d) {
          if (d.pounds_per_resident !== null) { values[d.code] = parseFloat(d.pounds_per_resident); }
        });
        layer.grantNeed = result.body;
        layer.options.style.values = values;
        var before = layer.options.attribution;
        layer.options.attribution = before + escapeHtml(grantCredits(result.body, options));
        if (map.hasLayer(layer) && map.attributionControl) {
          map.attributionControl.removeAttribution(before).addAttribution(layer.options.attribution);
        }
        options.loaded = true;
        layer.redraw();
      });
    }
    return layer._grantNeedLoading.then(function () {
      if (map.hasLayer(layer) && layer.grantNeed) { chart.show(layer); }
    });
  }

  function grantMoneyLayers(map) {
    var chart = new GrantChart().addTo(map);
    chart.hide();
    registry.grantChart = chart;
    Object.keys(registry.layers).forEach(function (key) {
      var layer = registry.layers[key];
      if (!layer.options.grantMoney) { return; }
      layer.on('add', function () { loadGrantMoney(map, layer, chart); });
      layer.on('remove', function () { chart.hide(); });
      if (map.hasLayer(layer)) { loadGrantMoney(map, layer, chart); }
    });
  }

  /** Wire the legend, search and click handling onto a folium-built map. */
  function setup(map, config) {
    registry.map = map;
    registry.config = config;
    var legend = new Legend(config).addTo(map);
    var showLegends = function () { legend.show(activeLegends(map, config)); };
    showLegends();
    map.on('baselayerchange overlayadd overlayremove', showLegends);
    keepLegendFitted(map, legend);
    if (config.search) { registry.search = new Search(config).addTo(map); }
    if (config.labelsUrl) { registry.labels = new PlaceLabels(config).addTo(map); }
    if (config.lsoaNameUrl) { hoverNames(map, config); }
    if (config.groupField) { registry.groupField = new GroupField(config).addTo(map); }
    grantMoneyLayers(map);
    if (config.click === 'lookup' || config.click === 'eligibility' || config.click === 'assets') {
      // On the assets map a click beside the markers shows the LSOA underneath.
      map.on('click', function (e) { inspect(map, config, e.latlng); });
    }
    if (config.click === 'assets') {
      Object.keys(registry.layers).forEach(function (key) {
        var layer = registry.layers[key];
        if (!layer.markersNear) { return; }
        layer.on('featureclick', function (e) { inspectAssets(map, config, layer, e.marker, e.containerPoint); });
      });
    } else if (config.click === 'coverage') {
      map.on('click', function (e) { inspectCoverage(map, config, e.latlng); });
    } else if (config.click === 'properties') {
      Object.keys(registry.layers).forEach(function (key) {
        var layer = registry.layers[key];
        if (!layer.eachLayer) { return; }
        layer.eachLayer(function (l) {
          l.on('click', function (e) {
            var content = el('div', 'platoons-popup-content');
            content.appendChild(lsoaBlock(lsoaFromProperties(l.feature.properties, config), config));
            content.dataset.ready = 'true';
            registry.lastPopup = content;
            L.popup({ maxWidth: 380, className: 'platoons-popup' }).setLatLng(e.latlng).setContent(content).openOn(map);
          });
        });
      });
    }
    registry.inspect = function (lat, lon) { return inspect(map, config, L.latLng(lat, lon)); };
    return registry;
  }

  L.platoons = {
    vectorTiles: function (options) { return new VectorTiles(options); },
    pointTiles: function (options) { return new PointTiles(options); },
    featureLayer: featureLayer,
    setup: setup,
    decodeTile: decodeTile,
    rings: rings
  };
})(window, L);
